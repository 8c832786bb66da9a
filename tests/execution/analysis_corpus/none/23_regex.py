# expect: none
import re
pattern = re.compile(r"caput\s*\(")
print(pattern.sub("", "caput(x)"))
