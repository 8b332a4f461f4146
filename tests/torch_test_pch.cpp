// Translation unit that builds the shared QtTest + LibTorch precompiled header.
