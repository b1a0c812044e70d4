# GLUE (or the synthetic suite) and declared tasks -> results/data/{task}/{split}.parquet -> results/tokens/{encoder}/...


rule prepare:
    input:
        declared_files,
    output:
        multiext("results/data/{task}/", "train.parquet", "dev.parquet", "test.parquet"),
    log:
        "results/logs/prepare/{task}.log",
    conda:
        CONDA_ENV
    resources:
        **config["training"]["resources"]["data"],
    params:
        source=prepare_source,
        options=prepare_options,
        definition=task_definition,
        code=prepare_code,
    shell:
        "bam prepare {wildcards.task} --source {params.source} {params.options}"
        " --out-dir results/data/{wildcards.task} > {log} 2>&1"


rule demo_encoder:
    input:
        expand("results/data/{task}/train.parquet", task=TASKS),
    output:
        directory(ENCODER_DIR),
    log:
        f"results/logs/demo_encoder/{ENCODER}.log",
    threads: 2  # pretraining; every other job waits for it
    conda:
        CONDA_ENV
    params:
        tasks=TASKS,
        demo=demo_encoder_options(),
        max_positions=config["max_seq_length"],
        code=code_fingerprint("demo-encoder"),
    shell:
        "bam demo-encoder --data-dir results/data --tasks {params.tasks} {params.demo}"
        " --max-position-embeddings {params.max_positions} --num-threads {threads} --out-dir {output} > {log} 2>&1"


rule tokenize:
    input:
        data=multiext(
            "results/data/{task}/", "train.parquet", "dev.parquet", "test.parquet"
        ),
        encoder=tokenizer_input,
    output:
        multiext(
            f"{TOKENS_DIR}/{{task}}/", "train.parquet", "dev.parquet", "test.parquet"
        ),
    log:
        f"results/logs/tokenize/{ENCODER}/{{task}}.log",
    conda:
        CONDA_ENV
    resources:
        **config["training"]["resources"]["data"],
    params:
        tokenizer=tokenizer_name(),
        out_dir=output_dir,
        max_seq_length=config["max_seq_length"],
        code=code_fingerprint("tokenize"),
    shell:
        "bam tokenize --tokenizer {params.tokenizer} --data-dir results/data/{wildcards.task}"
        " --out-dir {params.out_dir} --max-seq-length {params.max_seq_length} > {log} 2>&1"
