import sys

from stylecam.cli import main

sys.exit(main())
