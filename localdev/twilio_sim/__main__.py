"""``python -m localdev.twilio_sim``; the arguments are in `localdev.twilio_sim.cli`."""

import sys

from localdev.twilio_sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
