# One training job per run (variant, seed, group), or per (variant, group) for all its seeds
# (training.seed_jobs: per_variant); Single is assembled from its alpha grid.
# A run's spec is its params: changing a setting reruns exactly the jobs it belongs to. How the runs
# execute (checkpoint cadence, threads) goes in resources, which Snakemake does not compare.


rule train:
    input:
        unpack(train_inputs),
    output:
        metrics=train_outputs("metrics.json"),
        predictions=train_outputs("predictions.parquet"),
        logits=train_outputs("logits.parquet"),
        history=train_outputs("history.parquet"),
    log:
        f"results/logs/train/{TRAIN_JOB}.log",
    benchmark:
        f"results/benchmarks/train/{TRAIN_JOB}.tsv"
    conda:
        CONDA_ENV
    threads: train_cpus
    priority: train_priority
    resources:
        gpu=train_gpu,
        mem_mb=train_mem_mb,
        runtime=train_runtime,
        cpus_per_task=train_cpus,
        checkpoint_every=EXECUTION["checkpoint_every"],
        checkpoint_minutes=EXECUTION["checkpoint_minutes"],
        num_threads=EXECUTION["num_threads"],
    params:
        spec=spec_settings,
        alpha=alpha_choice_option,
        code=code_fingerprint("train"),
    shell:
        "bam train --spec-json {params.spec:q} {params.alpha} --checkpoint-every {resources.checkpoint_every}"
        " --checkpoint-minutes {resources.checkpoint_minutes} --num-threads {resources.num_threads} > {log} 2>&1"


rule choose_alpha:
    input:
        grid_metrics,
    output:
        "results/alpha_choice.json",
    log:
        "results/logs/choose_alpha.log",
    localrule: True
    priority: UNBLOCKING
    conda:
        CONDA_ENV
    params:
        grid=config["training"]["single_alpha_grid"],
        code=code_fingerprint("choose-alpha"),
    shell:
        "bam choose-alpha --grid {params.grid} --out {output} {input} > {log} 2>&1"


rule select_single:
    input:
        choice="results/alpha_choice.json",
        runs=grid_run_files,
    output:
        multiext(f"results/runs/{SINGLE}/{{seed}}/{{group}}/", *RUN_FILES),
    log:
        f"results/logs/select_single/{{seed}}/{{group}}.log",
    localrule: True
    priority: UNBLOCKING
    conda:
        CONDA_ENV
    params:
        run_dirs=grid_run_dirs,
        out_dir=output_dir,
        code=code_fingerprint("select-single"),
    shell:
        "bam select-single --choice {input.choice} --out-dir {params.out_dir} {params.run_dirs} > {log} 2>&1"


ruleorder: select_single > train
