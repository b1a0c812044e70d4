# A teacher is a variant's runs at one seed; its logits are merged once and shared by every student.


rule teacher_logits:
    input:
        teacher_logits_inputs,
    output:
        "results/teachers/{variant}/{seed}/logits.parquet",
    log:
        "results/logs/teacher_logits/{variant}/{seed}.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        code=code_fingerprint("teacher-logits"),
    shell:
        "bam teacher-logits --out {output} {input} > {log} 2>&1"
