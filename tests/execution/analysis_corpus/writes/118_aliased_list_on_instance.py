# expect: write pvs=SR:ALIAS:LIST
from epics import caput


class Plan:
    def __init__(self):
        self.steps = []
        steps = self.steps
        steps.append(caput)

    def run(self):
        for step in self.steps:
            step("SR:ALIAS:LIST", 0)


Plan().run()
