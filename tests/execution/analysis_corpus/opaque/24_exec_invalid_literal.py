# expect: opaque
exec("caput(")
