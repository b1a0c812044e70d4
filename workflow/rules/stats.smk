# Per-seed scores -> medians, bootstrap and Mann-Whitney tests with Holm correction, per table.


rule report_settings:
    output:
        "results/report/{kind}_settings.json",
    log:
        "results/logs/report_settings/{kind}.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        settings=report_settings_json,
        code=code_fingerprint("report-settings"),
    shell:
        "bam report-settings {output} --settings {params.settings:q} > {log} 2>&1"


rule stats:
    input:
        scores="results/scores.parquet",
        settings="results/report/stats_settings.json",
    output:
        "results/stats/{table}.parquet",
    log:
        "results/logs/stats/{table}.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        code=code_fingerprint("stats"),
    shell:
        "bam stats {wildcards.table} --scores {input.scores} --settings {input.settings} --out {output} > {log} 2>&1"
