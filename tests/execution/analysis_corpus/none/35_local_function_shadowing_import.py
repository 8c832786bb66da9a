# expect: none
def run():
    caput = print
    caput("SR:X", 1)


run()
