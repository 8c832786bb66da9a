# expect: none
exec("x = 1 + 2")
print(eval("3 * 4"))
