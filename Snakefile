"""BAM! Born-Again Multi-Task Networks (Clark et al., ACL 2019) as one DAG.

`snakemake --cores 2` runs the offline demo; `--configfile workflow/configs/paper.yaml` the paper.
"""

from snakemake.utils import min_version

min_version("9.0")


# The demo's config, unless --configfile names a whole config of its own (e.g. workflow/configs/paper.yaml):
# merging one into the other would keep variants that the chosen config does not have.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/estimate.smk"
include: "workflow/rules/teachers.smk"
include: "workflow/rules/scores.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
