# expect: none
class Buffer:
    def __init__(self):
        self.items = []

    def put(self, value):
        self.items.append(value)

    def set_value(self, value):
        self.value = value

    def write(self, text):
        self.items.append(text)

    def move(self, position):
        self.position = position


b = Buffer()
b.put(1)
b.set_value(2)
b.write("x")
b.move(3)
b.value = 4
