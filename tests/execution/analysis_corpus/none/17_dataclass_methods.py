# expect: none
from dataclasses import dataclass


@dataclass
class Stage:
    position: float = 0.0

    def move(self, target):
        self.position = target

    def set(self, value):
        self.position = value


s = Stage()
s.move(3)
s.set(4)
