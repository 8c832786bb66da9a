# expect: none
import numpy as np
import pandas as pd

data = np.linspace(0, 1, 100)
frame = pd.DataFrame({"x": data, "y": np.sin(data)})
frame.set_index("x", inplace=True)
arr = np.zeros(5)
np.put(arr, [0, 2], [1, 2])
print(frame.describe())
