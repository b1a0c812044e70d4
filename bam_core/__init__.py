"""bam_core: the library behind the BAM! workflow. Every stage is a `bam <stage>` command."""

__version__ = "0.1.0"
