# expect: opaque
import pickle
with open("state.pkl", "rb") as handle:
    state = pickle.loads(handle.read())
