"""Small real data for the tests: a profile on scikit-learn's digits (1,500 training images,
8x8, no augmentation), two epochs of the smoke profile's net."""
from datadiet_core import profiles


def digits_profile(**kw):
    base = dict(dataset="digits", train_size=None, test_size=None, epochs=2, batch_size=100, augment=False,
                scoring_seeds=2, inits=3, c1_images=None, c1_resnet_images=8, predrop=None)
    return profiles.resolve_profile("smoke", **{**base, **kw})
