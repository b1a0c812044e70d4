from bam_core.cli import main

raise SystemExit(main())
