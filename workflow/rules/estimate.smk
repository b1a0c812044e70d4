# The bill before the run: `snakemake estimate` times a few dozen steps of every training unit on the
# training jobs' own resources, then prices every run of the plan. Run it before the run itself: the
# training jobs' SLURM time requests are read from it while the DAG is built.


rule calibrate:
    input:
        unpack(calibration_inputs),
    output:
        "results/estimate/calibration/{mode}.json",
    log:
        "results/logs/calibrate/{mode}.log",
    conda:
        CONDA_ENV
    threads: mode_resource("cpus_per_task")
    resources:
        gpu=mode_resource("gpu"),
        mem_mb=mode_resource("mem_mb"),
        runtime=mode_resource("runtime"),
        cpus_per_task=mode_resource("cpus_per_task"),
    params:
        spec=calibration_spec_json,
        code=code_fingerprint("calibrate"),
    shell:
        "bam calibrate --spec-json {params.spec:q} --out {output} > {log} 2>&1"


rule estimate:
    input:
        calibration=CALIBRATIONS,
        tokens=expand(
            f"{TOKENS_DIR}/{{task}}/{{split}}.parquet", task=TASKS, split=SPLITS
        ),
    output:
        runs="results/estimate/runs.tsv",
        summary="results/estimate/summary.txt",
    log:
        "results/logs/estimate.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        config=json.dumps(config, sort_keys=True),
        tokens_dir=tokens_dir_of_input,
        encoder_dir=ENCODER_DIR,
        out_dir=output_dir,
        code=code_fingerprint("estimate"),
    shell:
        "bam estimate --config-json {params.config:q} --calibration {input.calibration}"
        " --tokens-dir {params.tokens_dir} --encoder-dir {params.encoder_dir} --out-dir {params.out_dir}"
        " > {log} 2>&1"
