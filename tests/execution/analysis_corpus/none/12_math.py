# expect: none
import math
beta = 12.5
tune = math.sqrt(beta) / (2 * math.pi)
