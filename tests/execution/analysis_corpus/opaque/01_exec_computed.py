# expect: opaque
code = input("code? ")
exec(code)
