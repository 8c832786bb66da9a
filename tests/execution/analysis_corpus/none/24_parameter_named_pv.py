# expect: none
def set_stage(pv, value):
    pv.put(value)
    pv.value = value


class Fake:
    def put(self, v):
        pass


set_stage(Fake(), 1)
