import pytest

from datadiet_core import ParameterError, profiles

BAD = [
    ({"epochs": 0}, "parameter 'epochs' must be an integer >= 1"),
    ({"epochs": -3}, "parameter 'epochs' must be an integer >= 1"),
    ({"epochs": 2.5}, "parameter 'epochs' must be an integer >= 1"),
    ({"epochs": "8"}, "parameter 'epochs' must be an integer >= 1"),
    ({"epochs": True}, "parameter 'epochs' must be an integer >= 1"),
    ({"scoring_seeds": 0}, "parameter 'scoring_seeds' must be an integer >= 1"),
    ({"early": 1.0}, "parameter 'early' must be a number in (0, 1)"),
    ({"predrop": 1.0}, "parameter 'predrop' must be a number in (0, 1)"),
    ({"predrop": 0.3}, "parameter 'predrop' must differ from early (0.1) and come before the first lr drop (0.3)"),
    ({"predrop": 0.1}, "parameter 'predrop' must differ from early (0.1)"),
    ({"inits": -1}, "parameter 'inits' must be an integer >= 1"),
    ({"batch_size": -128}, "parameter 'batch_size' must be an integer >= 1"),
    ({"lr": 0}, "parameter 'lr' must be a number in (0, 10]"),
    ({"lr": float("nan")}, "parameter 'lr' must be a number in (0, 10]"),
    ({"momentum": 1.0}, "parameter 'momentum' must be a number in [0, 1)"),
    ({"weight_decay": -1e-4}, "parameter 'weight_decay' must be a number in [0, 1]"),
    ({"lr_milestones": [0.8, 0.3]}, "parameter 'lr_milestones' must be an increasing list"),
    ({"lr_milestones": [0.3, 1.2]}, "parameter 'lr_milestones' must be an increasing list"),
    ({"lr_gamma": 0}, "parameter 'lr_gamma' must be a number in (0, 1]"),
    ({"dataset": "imagenet"}, "parameter 'dataset' must be one of cifar10, cifar100"),
    ({"model": "vgg13"}, "parameter 'model' must be one of fastnet"),
    ({"device": "tpu"}, "parameter 'device' must be one of auto, cpu"),
    ({"precision": "int8"}, "parameter 'precision' must be one of auto, fp32"),
    ({"train_size": 0}, "parameter 'train_size' must be None or an integer >= 1"),
    ({"augment": "yes"}, "parameter 'augment' must be true or false"),
    ({"epoch": 3}, "unknown parameter 'epoch'; allowed: name, dataset"),
    ({"c3_core": ["ucb", "loss"]}, "parameter 'c3_core' must be a non-empty list of distinct selectors from random_static"),
    ({"c3_core": []}, "parameter 'c3_core' must be a non-empty list of distinct selectors"),
    ({"c3_core": "ucb"}, "parameter 'c3_core' must be a non-empty list of distinct selectors"),
    ({"c3_side_rates": [0.7, 1.0]}, "parameter 'c3_side_rates' must be a non-empty list of distinct fractions in (0, 1)"),
]


@pytest.mark.parametrize("overrides,message", BAD, ids=[next(iter(o)) + "=" + repr(next(iter(o.values()))) for o, _ in BAD])
def test_bad_values_stop_with_one_line_naming_the_parameter(overrides, message):
    with pytest.raises(ParameterError) as e:
        profiles.resolve_profile("cpu", **overrides)
    assert str(e.value).startswith(message)
    assert "\n" not in str(e.value)


def test_unknown_profile():
    with pytest.raises(ParameterError, match="parameter 'profile' must be one of smoke, cpu, gpu, paper; got 'tpu'"):
        profiles.resolve_profile("tpu")


def test_shipped_profiles_are_valid_and_paper_matches_paul_et_al():
    for name in profiles.PROFILES:
        profiles.resolve_profile(name)
    p = profiles.PROFILES["paper"]
    assert (p.model, p.epochs, p.batch_size, p.lr, p.momentum, p.nesterov, p.weight_decay) == \
        ("resnet18", 200, 128, 0.1, 0.9, True, 5e-4)
    assert p.lr_milestones == (0.3, 0.6, 0.8) and p.lr_gamma == 0.2  # epochs 60/120/160, /5


def test_overrides_from_a_papermill_namespace():
    ns = {"profile": "smoke", "epochs": 1, "lr": None, "unrelated_variable": 3}
    p = profiles.from_namespace(ns)
    assert p.name == "smoke" and p.epochs == 1 and p.lr == profiles.PROFILES["smoke"].lr
    with pytest.raises(ParameterError, match="parameter 'epochs'"):
        profiles.from_namespace({"profile": "smoke", "epochs": -1})


def test_gpu_profile_is_the_papers_recipe_compressed_with_four_seeds_where_headlines_rest():
    g, paper = profiles.resolve_profile("gpu"), profiles.resolve_profile("paper")
    assert (g.model, g.momentum, g.nesterov, g.weight_decay, g.lr_milestones, g.lr_gamma, g.augment) == (
        paper.model, paper.momentum, paper.nesterov, paper.weight_decay, paper.lr_milestones, paper.lr_gamma, paper.augment)
    assert g.lr / g.batch_size == paper.lr / paper.batch_size  # the linear scaling rule
    assert g.eval_seeds >= 4 and g.warmup < g.early < g.lr_milestones[0] and g.predrop is None  # early is past warm-up, before the drop
    assert g.c2_budgets == ("iterations", "epochs")
