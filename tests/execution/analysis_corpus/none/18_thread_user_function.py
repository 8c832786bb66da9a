# expect: none
import threading


def crunch(n):
    return sum(i * i for i in range(n))


t = threading.Thread(target=crunch, args=(1000,))
t.start()
t.join()
