# Every run's dev scores -> results/scores.parquet (variant, seed, task, metric, score).


rule collect_scores:
    input:
        all_reported_metrics,
    output:
        "results/scores.parquet",
    log:
        "results/logs/collect_scores.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        averaged=averaged_tasks(),
        code=code_fingerprint("collect"),
    shell:
        "bam collect --out {output} {input} > {log} 2>&1"
