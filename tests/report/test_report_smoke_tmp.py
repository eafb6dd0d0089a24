def test_smoke(real_run):
    import os
    print(sorted(os.listdir(real_run)))
