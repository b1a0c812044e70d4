"""The run table the workflow expands from the variants: known counts, settings and wiring, on the demo's variants
with the tests' own numbers (tests/test_config.py's TUNING), so that retuning config.yaml breaks none of them."""

import pytest
import yaml

from bam_core.errors import BamError
from bam_core.experiment.alpha_choice import choose
from bam_core.experiment.schedule import scheduling_priority, students_below
from bam_core.experiment.scores import collect
from bam_core.io import write_json
from bam_core.method.spec import fill_alpha
from tests.test_config import REPO, plan_of, tuned_config, with_ensemble


def test_demo_runs_per_variant():
    plan = plan_of(tuned_config())
    assert plan.trained == [v for v in plan.variants if v != "single"]
    assert len(plan.runs()) == 16 * 3  # 15 reported variants + 1 grid variant, one `all` group each, 3 seeds
    per_task = tuned_config()
    per_task["training"]["single_task_jobs"] = "per_task"
    plan = plan_of(per_task)
    assert plan.groups("single-single") == ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE"]
    assert plan.groups("rte-mnli") == ["all"]
    # 6 single-task variants (1 grid, single, single-single, single-multi-single, 2 fine-tuned) x 8 tasks
    # + 10 multi-task variants, x 3 seeds
    assert len(plan.runs()) == (6 * 8 + 10) * 3


def test_training_priority_is_the_longest_chain_of_students_then_the_length():
    plan = plan_of(tuned_config())
    # Single teaches Single->Multi, which teaches Single->Multi->Single (and inits Single->Multi + ft),
    # which teaches Single->Multi->Single->Multi; Multi teaches Multi->Multi and inits Multi + ft
    assert {v: students_below(plan, v) for v in ("single", "single.alpha0.9", "single-multi", "single-multi-single",
                                                "single-multi-single-multi", "multi", "ablation-lambda-0")} == {
        "single": 3, "single.alpha0.9": 3, "single-multi": 2, "single-multi-single": 1,
        "single-multi-single-multi": 0, "multi": 1, "ablation-lambda-0": 0}
    # then by length, examples x (20 / batch + 1): Single 8 tasks x 3 epochs x (20/16 + 1) = 54 (min_steps not
    # counted), Multi 32 x (20/64 + 1) = 42, its fine-tuning 8 x 1 epoch x 2.25 = 18, RTE+MNLI 8 x 1.3125 = 10.5
    assert {v: scheduling_priority(plan, v) for v in ("single.alpha0.9", "multi", "multi-ft", "rte-mnli")} == {
        "single.alpha0.9": 354, "multi": 142, "multi-ft": 18, "rte-mnli": 10}


def test_spec_settings_of_a_distilled_and_a_finetuned_run():
    plan = plan_of(tuned_config())
    spec = plan.spec_settings("single-multi", 2, "all", "results/encoders/demo-tiny", "results/tokens/demo-tiny")
    assert spec["teacher_logits"] == "results/teachers/single/0/logits.parquet"  # teacher_seed: first
    assert (spec["lr"], spec["batch_size"], spec["layerwise_lr_decay"], spec["annealing"]) == (2e-3, 64, 0.9, "linear")
    assert spec["init"] == {"kind": "pretrained", "path": "results/encoders/demo-tiny"}
    assert spec["save_model"] is True  # single-multi initialises single-multi-ft
    ft = plan.spec_settings("single-multi-ft", 1, "all", "enc", "tok")
    assert ft["init"] == {"kind": "checkpoint", "path": "results/runs/single-multi/1/all/model"}
    assert (ft["lr"], ft["batch_size"], ft["teacher_logits"]) == (3e-4, 16, None)
    assert "layerwise_lr_decay" not in ft and plan.needs_alpha_choice("single-multi-ft")
    ablation = plan.spec_settings("ablation-lambda-0.5", 0, "all", "enc", "tok")
    assert ablation["annealing"] == 0.5 and ablation["save_model"] is False


def test_min_steps_reaches_single_task_runs_and_is_absent_where_unset():
    """training.single.min_steps reaches Single and the fine-tuning after multi-task training (the single mode's
    settings); unset (the paper's configs) it is not in a spec at all, so adding the key reran nothing."""
    plan = plan_of(tuned_config())
    tuned = {v: plan.spec_settings(v, 0, "all", "enc", "tok").get("min_steps")
             for v in ("single.alpha0.9", "single-single", "multi-ft", "multi", "single-multi")}
    assert tuned == {"single.alpha0.9": 120, "single-single": 120, "multi-ft": 0, "multi": None, "single-multi": None}
    paper = plan_of(yaml.safe_load((REPO / "workflow" / "configs" / "paper.yaml").read_text()))
    assert not any("min_steps" in paper.spec_settings(v, 0, "all", "enc", "tok") for v in paper.trained)


def test_execution_settings_stay_out_of_the_specs():
    """Checkpoint cadence and threads reach `bam train` beside the specs (which decide reruns), not in them."""
    from bam_core.method.spec import EXECUTION_KEYS

    config = tuned_config()
    config["training"].update(checkpoint_every=7, checkpoint_minutes=0, num_threads=None)
    plan = plan_of(config)
    assert plan.execution_settings() == {"checkpoint_every": 7, "checkpoint_minutes": 0, "num_threads": None}
    assert set(plan.execution_settings()) == set(EXECUTION_KEYS)
    spec = plan.spec_settings("multi", 0, "all", "e", "t")
    assert not set(EXECUTION_KEYS) & set(spec)
    assert spec == plan_of(tuned_config()).spec_settings("multi", 0, "all", "e", "t")


def test_teacher_seed_same_pairs_seeds():
    config = tuned_config()
    config["variants"]["single-multi"]["teacher_seed"] = "same"
    plan = plan_of(config)
    assert plan.teacher_seeds("single-multi", 2) == (2,)
    assert plan.teacher_seeds("multi-multi", 2) == (0,)
    assert plan.teacher_logits("single-multi", 2) == "results/teachers/single/2/logits.parquet"


def test_ensemble_teacher_seeds_name_its_file():
    config = with_ensemble(tuned_config())
    plan = plan_of(config)  # single-ensemble-multi: teacher_seed all
    assert plan.teacher_seeds("single-ensemble-multi", 1) == (0, 1, 2)
    assert plan.teacher_logits("single-ensemble-multi", 1) == "results/teachers/single/0+1+2/logits.parquet"
    config["variants"]["single-ensemble-multi"]["teacher_seed"] = [2, 0]
    plan = plan_of(config)
    assert plan.spec_settings("single-ensemble-multi", 1, "all", "e", "t")["teacher_logits"] == \
        "results/teachers/single/0+2/logits.parquet"


def test_only_runs_that_teach_predict_train():
    plan = plan_of(with_ensemble(tuned_config()))
    # teachers in the demo: Single (first seed; all seeds for the ensemble) through its grid variant,
    # Multi, Single->Multi and Single->Multi->Single at the first seed
    teaching = {(v, s) for v, s, _ in plan.runs(plan.trained) if plan.predict_train(v, s)}
    assert teaching == {("single.alpha0.9", 0), ("single.alpha0.9", 1), ("single.alpha0.9", 2),
                        ("multi", 0), ("single-multi", 0), ("single-multi-single", 0)}
    spec = plan.spec_settings("multi", 1, "all", "e", "t")
    assert (spec["predict_train"], spec["predict_swapped"]) == (False, False)
    assert plan.spec_settings("multi", 0, "all", "e", "t")["predict_train"] is True
    # (run, task) passes over train. Before: every trained run, i.e. 1 grid + 4 other single-task variants
    # x 8 tasks, 9 multi-task variants x 8 tasks, RTE+MNLI 2 and RTE+QQP+CoLA+SST-2 4, x 3 seeds:
    # (5 * 8 + 9 * 8 + 2 + 4) * 3 = 354. After: 1 grid x 8 tasks x 3 seeds + 3 teachers x 8 tasks = 48.
    assert plan.train_split_predictions(only_teachers=False) == 354
    assert plan.train_split_predictions() == 48


def test_teachers_predict_swapped_pairs_only_for_doubling_students():
    config = tuned_config()
    plan = plan_of(config)
    assert not plan.predict_swapped("multi", 0)
    config["variants"]["multi-multi"]["settings"] = {"double_unordered": True}
    plan = plan_of(config)
    assert plan.predict_swapped("multi", 0) and not plan.predict_swapped("multi", 1)  # seed 1 does not teach
    assert not plan.predict_swapped("single.alpha0.9", 0)  # no student of Single doubles


def test_fill_alpha_per_task():
    settings = {"tasks": ["CoLA", "RTE"], "lr": 1.0}
    assert fill_alpha(settings, {"CoLA": 1.0, "RTE": 0.9})["layerwise_lr_decay"] == {"CoLA": 1.0, "RTE": 0.9}
    assert fill_alpha({"tasks": ["RTE"]}, {"RTE": 0.9})["layerwise_lr_decay"] == 0.9
    with pytest.raises(BamError, match="alpha choice has no entry for task\\(s\\) RTE"):
        fill_alpha(settings, {"CoLA": 1.0})


def _metrics(tmp_path, variant, seed, alpha, scores):
    path = tmp_path / "runs" / variant / str(seed) / "all" / "metrics.json"
    write_json({"spec": {"layerwise_lr_decay": alpha},
                "tasks": {t: {"metric": "accuracy", "score": s} for t, s in scores.items()}}, path)
    return str(path)


def test_choose_alpha_by_median_over_seeds(tmp_path):
    paths = [
        _metrics(tmp_path, "single.alpha1", 0, 1.0, {"RTE": 60.0, "CoLA": 10.0}),
        _metrics(tmp_path, "single.alpha1", 1, 1.0, {"RTE": 70.0, "CoLA": 20.0}),
        _metrics(tmp_path, "single.alpha1", 2, 1.0, {"RTE": 90.0, "CoLA": 30.0}),
        _metrics(tmp_path, "single.alpha0.9", 0, 0.9, {"RTE": 65.0, "CoLA": 5.0}),
        _metrics(tmp_path, "single.alpha0.9", 1, 0.9, {"RTE": 66.0, "CoLA": 20.0}),
        _metrics(tmp_path, "single.alpha0.9", 2, 0.9, {"RTE": 67.0, "CoLA": 99.0}),
    ]
    result = choose([1.0, 0.9], paths)
    # RTE medians 70 vs 66: alpha 1.0; CoLA medians 20 vs 20: a tie goes to the earlier grid value
    assert result["choice"] == {"RTE": 1.0, "CoLA": 1.0}
    assert result["medians"]["RTE"] == {"1": 70.0, "0.9": 66.0}


def test_collect_scores_and_seed_average(tmp_path):
    paths = [_metrics(tmp_path, "multi", 0, 0.9, {"RTE": 60.0, "CoLA": 20.0}),
             _metrics(tmp_path, "multi", 1, 0.9, {"RTE": 70.0, "CoLA": 40.0})]
    scores = collect(paths)
    assert scores.columns.tolist() == ["variant", "seed", "task", "metric", "score"]
    avg = scores[scores.task == "Avg"].set_index("seed")["score"].to_dict()
    assert avg == {0: 40.0, 1: 55.0}
    assert len(scores) == 6


def _grid_run(tmp_path, alpha, scores):
    """A grid run with one dev prediction per task whose value is alpha*10 + task number."""
    import pandas as pd

    from bam_core.io import write_parquet

    run = tmp_path / f"single.alpha{alpha:g}" / "0" / "all"
    tasks = list(scores)
    write_json({"spec": {"layerwise_lr_decay": alpha},
                "tasks": {t: {"metric": "accuracy", "score": s} for t, s in scores.items()}}, run / "metrics.json")
    write_parquet(pd.DataFrame({"task": tasks, "split": "dev", "idx": [0] * len(tasks),
                                "prediction": [alpha * 10 + i for i in range(len(tasks))], "label": 1.0}),
                  run / "predictions.parquet")
    write_parquet(pd.DataFrame({"task": tasks, "split": "train", "idx": [0] * len(tasks),
                                "logits": [[alpha, float(i)] for i in range(len(tasks))]}),
                  run / "logits.parquet", {"bam.runs": "[]"})
    return str(run)


def test_select_single_takes_each_task_from_its_chosen_run(tmp_path):
    import pandas as pd

    from bam_core.experiment.alpha_choice import select
    from bam_core.io import read_json

    runs = [_grid_run(tmp_path, 1.0, {"RTE": 60.0, "CoLA": 10.0}), _grid_run(tmp_path, 0.9, {"RTE": 70.0, "CoLA": 30.0})]
    out = tmp_path / "single" / "0" / "all"
    select({"RTE": 0.9, "CoLA": 1.0}, runs, str(out))
    metrics = read_json(out / "metrics.json")
    assert metrics["tasks"] == {"RTE": {"metric": "accuracy", "score": 70.0},
                                "CoLA": {"metric": "accuracy", "score": 10.0}}
    assert metrics["average"] == 40.0
    predictions = pd.read_parquet(out / "predictions.parquet").set_index("task")["prediction"].to_dict()
    assert predictions == {"RTE": 9.0, "CoLA": 11.0}  # RTE is task 0 of the 0.9 run, CoLA task 1 of the 1.0 run
    logits = pd.read_parquet(out / "logits.parquet").set_index("task")["logits"].map(list).to_dict()
    assert logits == {"RTE": [0.9, 0.0], "CoLA": [1.0, 1.0]}


def test_table5_trained_on_a_single_task_variant_is_the_task_alone():
    settings = plan_of(tuned_config()).report_settings(with_statistics=True)
    assert settings["tables"]["table5"]["training_tasks"] == {
        "single-single": ["RTE"], "rte-mnli": ["RTE", "MNLI"], "rte-qqp-cola-sst2": ["RTE", "QQP", "CoLA", "SST-2"],
        "single-multi": ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE"]}
