# Statistics -> the paper's Tables 1, 3, 4 and 5 and the extensions table as LaTeX (+ a standalone
# document), the cost table, and all of them as Markdown (results/tables/tables.md).


rule tables:
    input:
        scores="results/scores.parquet",
        stats=expand("results/stats/{table}.parquet", table=TABLES_REPORTED),
        settings="results/report/stats_settings.json",
        data=expand("results/data/{task}/train.parquet", task=TASKS),
    output:
        tables=report(
            expand("results/tables/{table}.tex", table=PAPER_TABLES),
            category="Tables",
            caption="../report/all_tables.rst",
        ),
        extensions=report(
            expand("results/tables/{table}.tex", table=EXTENSION_TABLES),
            category="Tables",
            caption="../report/extensions.rst",
        ),
        all_tables="results/tables/all_tables.tex",
        sizes="results/tables/train_sizes.json",
        paper_vs_run=report(
            "results/tables/paper_vs_run.tex",
            category="Tables",
            caption="../report/paper_vs_run.rst",
        ),
    log:
        "results/logs/tables.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        out_dir=output_dir,
        left_out=tables_left_out(),
        code=code_fingerprint("tables"),
    shell:
        "bam tables --scores {input.scores} --stats-dir results/stats --settings {input.settings}"
        " --data-dir results/data --out-dir {params.out_dir} > {log} 2>&1"


rule markdown:
    input:
        scores="results/scores.parquet",
        stats=expand("results/stats/{table}.parquet", table=TABLES_REPORTED),
        settings="results/report/stats_settings.json",
        sizes="results/tables/train_sizes.json",
        cost="results/tables/cost.parquet",
    output:
        "results/tables/tables.md",
    log:
        "results/logs/markdown.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        code=code_fingerprint("markdown"),
    shell:
        "bam markdown --results results --out {output} > {log} 2>&1"


rule cost:
    input:
        unpack(estimate_input),
        metrics=trained_metrics,
    output:
        parquet="results/tables/cost.parquet",
        tex=report(
            "results/tables/cost.tex", category="Cost", caption="../report/cost.rst"
        ),
    log:
        "results/logs/cost.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        estimate=estimate_option,
        out_dir=output_dir,
        code=code_fingerprint("cost"),
    shell:
        "bam cost --metrics {input.metrics} {params.estimate} --out-dir {params.out_dir} > {log} 2>&1"
