# expect: opaque
__builtins__["exec"](input())
