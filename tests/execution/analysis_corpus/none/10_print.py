# expect: none
print("hello", "world", sep=", ")
