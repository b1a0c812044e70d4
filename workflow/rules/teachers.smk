# A teacher is a variant's runs at one seed, or the mean over several (an ensemble, its seeds joined by
# "+"); its logits are merged once and shared by every student.


rule teacher_logits:
    input:
        teacher_logits_inputs,
    output:
        "results/teachers/{variant}/{teacher_seeds}/logits.parquet",
    log:
        "results/logs/teacher_logits/{variant}/{teacher_seeds}.log",
    localrule: True
    priority: UNBLOCKING
    conda:
        CONDA_ENV
    params:
        members=teacher_member_options,
        code=code_fingerprint("teacher-logits"),
    shell:
        "bam teacher-logits --out {output} {params.members} > {log} 2>&1"
