# expect: none
def caput(a, b):
    return a + b


print(caput(1, 2))
