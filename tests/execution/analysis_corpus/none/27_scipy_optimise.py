# expect: none
import numpy as np
from scipy.optimize import minimize


def cost(x):
    return float(np.sum((x - 1.0) ** 2))


result = minimize(cost, np.zeros(3))
print(result.x)
