import sys

from shared.replay.command import main

sys.exit(main())
