"""A deliberately non-deterministic step: its output changes on every run, so
`mlv repro --verify noisy` must report it (the tests rely on this)."""
import os
import random

os.makedirs("work", exist_ok=True)
open("work/noise.txt", "w").write("%r\n" % random.SystemRandom().random())
