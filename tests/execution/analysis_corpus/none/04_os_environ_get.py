# expect: none
import os
home = os.environ.get("HOME", "/")
path = os.path.join(home, "data")
