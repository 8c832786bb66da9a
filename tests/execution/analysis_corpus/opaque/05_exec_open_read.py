# expect: opaque
exec(open("restore_magnets.py").read())
