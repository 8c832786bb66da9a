# expect: none
class PV:
    def __init__(self, name):
        self.name = name

    def put(self, value):
        print(self.name, value)


PV("SR:NOT:EPICS").put(1)
