import sys
print("building features for", sys.argv[-1])
