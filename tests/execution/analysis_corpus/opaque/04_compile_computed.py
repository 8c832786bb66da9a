# expect: opaque
source = open("step.py").read()
code = compile(source, "step.py", "exec")
exec(code)
