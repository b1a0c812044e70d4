# Figures and GLUE submission files; `snakemake --report results/report.html` gathers them with the tables.


rule figures:
    input:
        scores="results/scores.parquet",
        settings="results/report/figures_settings.json",
        history=curve_history,
    output:
        seeds=report(
            expand("results/figures/seeds_{task}.png", task=TASKS + ["Avg"]),
            category="Seed distributions",
            caption="../report/seeds.rst",
        ),
        curve=report(
            "results/figures/training_curve.png",
            category="Training",
            caption="../report/training_curve.rst",
        ),
    log:
        "results/logs/figures.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        curve_variant=PLAN.curve_variant,
        code=code_fingerprint("figures"),
    shell:
        "bam figures --scores {input.scores} --settings {input.settings} --runs-dir results/runs"
        " --curve-variant {params.curve_variant} --out-dir results/figures > {log} 2>&1"


rule submission:
    input:
        scores="results/scores.parquet",
        predictions=submission_predictions,
        data=submission_data,
    output:
        report(
            directory("results/submission"),
            patterns=["{name}.tsv"],
            category="GLUE submission",
            caption="../report/submission.rst",
        ),
    log:
        "results/logs/submission.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        variant=config["submission_variant"],
        code=code_fingerprint("submission"),
    shell:
        "bam submission --scores {input.scores} --runs-dir results/runs --data-dir results/data"
        " --variant {params.variant} --out-dir {output} > {log} 2>&1"


rule submission_zip:
    input:
        "results/submission",
    output:
        report(
            "results/submission.zip",
            category="GLUE submission",
            caption="../report/submission_zip.rst",
        ),
    log:
        "results/logs/submission_zip.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        code=code_fingerprint("submission-zip"),
    shell:
        "bam submission-zip --submission-dir {input} --out {output} > {log} 2>&1"
