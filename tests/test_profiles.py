import re

import pytest

from datadiet_core import ParameterError, profiles, report

BAD = [
    ({"epochs": 0}, "parameter 'epochs' must be an integer >= 1"),
    ({"epochs": -3}, "parameter 'epochs' must be an integer >= 1"),
    ({"epochs": 2.5}, "parameter 'epochs' must be an integer >= 1"),
    ({"epochs": "8"}, "parameter 'epochs' must be an integer >= 1"),
    ({"epochs": True}, "parameter 'epochs' must be an integer >= 1"),
    ({"scoring_seeds": 0}, "parameter 'scoring_seeds' must be an integer >= 1"),
    ({"early": 1.0}, "parameter 'early' must be a number in (0, 1)"),
    ({"predrop": 1.0}, "parameter 'predrop' must be a number in (0, 1)"),
    ({"predrop": 0.3}, "parameter 'predrop' must differ from early (0.1) and come before the lr starts to fall (0.3 of"),
    ({"predrop": 0.1}, "parameter 'predrop' must differ from early (0.1)"),
    ({"inits": -1}, "parameter 'inits' must be an integer >= 1"),
    ({"batch_size": -128}, "parameter 'batch_size' must be an integer >= 1"),
    ({"lr": 0}, "parameter 'lr' must be a number in (0, 100]"),
    ({"lr": float("nan")}, "parameter 'lr' must be a number in (0, 100]"),
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
    ({"schedule": "cosine"}, "parameter 'schedule' must be one of step, triangle"),
    ({"augment_mode": "mixup"}, "parameter 'augment_mode' must be one of crop_flip, translate_altflip"),
    ({"label_smoothing": 1.0}, "parameter 'label_smoothing' must be a number in [0, 1)"),
    ({"lookahead": -5}, "parameter 'lookahead' must be an integer >= 0"),
    ({"bias_lr_scale": 0}, "parameter 'bias_lr_scale' must be a number in (0, 1000]"),
    ({"tta": 1}, "parameter 'tta' must be true or false"),
    ({"c2_budget": "steps"}, "parameter 'c2_budget' must be one of iterations, epochs"),
    ({"c2_budget": "epochs"}, "parameter 'c2_budgets' must include c2_budget (epochs)"),
    ({"c2_scores": ["random", "loss"]}, "parameter 'c2_scores' must be a non-empty list of distinct scores from random"),
    ({"c2_per_class": ["random"]}, "parameter 'c2_per_class' must be a list of distinct scores from input_norm"),
    ({"c3_iterations": ["ucb", "ucb"]}, "parameter 'c3_iterations' must be a list of distinct selectors"),
    ({"c3_side_selectors": "ucb"}, "parameter 'c3_side_selectors' must be None or a list of distinct selectors"),
    ({"c3_variants": ["late"]}, "parameter 'c3_variants' must be a list of distinct variants from per_class"),
    ({"c3_imbalanced_rates": [1.5]}, "parameter 'c3_imbalanced_rates' must be a list of distinct fractions in (0, 1)"),
    ({"c1_models": ["vgg"]}, "parameter 'c1_models' must be a list of distinct models from fastnet"),
    ({"setup_variants": ["label_smoothing"]}, "parameter 'setup_variants' must be a list of 'field=value' strings"),
    ({"setup_variants": ["dataset=\"mnist\""]}, "parameter 'setup_variants' must be a list of 'field=value' strings"),
    ({"setup_variants": ["label_smoothing=2"]}, "parameter 'setup_variants' must be a list of 'field=value' strings"),
]


@pytest.mark.parametrize("overrides,message", BAD, ids=[next(iter(o)) + "=" + repr(next(iter(o.values()))) for o, _ in BAD])
def test_bad_values_stop_with_one_line_naming_the_parameter(overrides, message):
    with pytest.raises(ParameterError) as e:
        profiles.resolve_profile("cpu", **overrides)
    assert str(e.value).startswith(message)
    assert "\n" not in str(e.value)


def test_unknown_profile():
    with pytest.raises(ParameterError, match="parameter 'profile' must be one of smoke, cpu, gpu, airbench, paper; got 'tpu'"):
        profiles.resolve_profile("tpu")


def test_shipped_profiles_are_valid_and_paper_matches_paul_et_al():
    for name in profiles.PROFILES:
        profiles.resolve_profile(name)
    p = profiles.PROFILES["paper"]
    assert (p.model, p.epochs, p.batch_size, p.lr, p.momentum, p.nesterov, p.weight_decay) == \
        ("resnet18", 200, 128, 0.1, 0.9, True, 5e-4)
    assert p.lr_milestones == (0.3, 0.6, 0.8) and p.lr_gamma == 0.2  # epochs 60/120/160, /5


def test_overrides_from_a_papermill_namespace():
    ns = {"profile": "smoke", "force": False, "engine": "local", "epochs": 1, "lr": None, "profiles": profiles,
          "ParameterError": ParameterError, "_": "", "In": [""], "Out": {}}  # what a notebook's globals hold
    p = profiles.from_namespace(ns)
    assert p.name == "smoke" and p.epochs == 1 and p.lr == profiles.PROFILES["smoke"].lr
    with pytest.raises(ParameterError, match="^parameter 'epoch' is not a profile field"):  # papermill -p epoch 1
        profiles.from_namespace({**ns, "epoch": 1})
    with pytest.raises(ParameterError, match="parameter 'epochs'"):
        profiles.from_namespace({"profile": "smoke", "epochs": -1})


def test_gpu_profile_is_the_papers_recipe_compressed_with_four_seeds_where_headlines_rest():
    g, paper = profiles.resolve_profile("gpu"), profiles.resolve_profile("paper")
    assert (g.model, g.momentum, g.nesterov, g.weight_decay, g.lr_milestones, g.lr_gamma, g.augment) == (
        paper.model, paper.momentum, paper.nesterov, paper.weight_decay, paper.lr_milestones, paper.lr_gamma, paper.augment)
    assert g.lr / g.batch_size == paper.lr / paper.batch_size  # the linear scaling rule
    assert g.eval_seeds >= 4 and g.warmup < g.early < g.lr_milestones[0] and g.predrop is None  # early is past warm-up, before the drop
    assert g.c2_budgets == ("iterations", "epochs")


def test_airbench_profile_is_the_recipe_with_early_before_the_peak_and_grid_fields_that_empty():
    a = profiles.resolve_profile("airbench")
    assert (a.model, a.batch_size, a.lr, a.momentum, a.weight_decay, a.bias_lr_scale, a.lookahead) == \
        ("airbench", 1024, 11.5, 0.85, 0.0153, 64.0, 5)  # Jordan (2024)'s hyperparameters, decoupled
    assert a.decoupled and a.schedule == "triangle" and a.tta and a.augment_mode == "translate_altflip"
    assert 1 <= a.early * a.epochs and a.early < profiles.first_drop(a) == a.lr_peak  # well past chance, before the fall
    assert a.c2_budget == "epochs" and a.regime_epochs == () and a.c3_imbalanced_rates == ()
    assert a.c3_variants == ("random_first", "per_class")  # the suspected trigger of the collapse, and the cpu cure
    assert profiles.parse_variant("label_smoothing=0") == ("label_smoothing", 0)
    assert profiles.parse_variant("model=airbench_wide") == ("model", "airbench_wide")
    assert profiles.first_drop(profiles.resolve_profile("cpu")) == 0.3  # the step schedule's first milestone


def test_profile_dict_round_trips_with_optional_lists():
    a = profiles.resolve_profile("airbench")
    d = profiles.as_dict(a)
    assert d["c3_side_selectors"] == ["infobatch", "epsilon_greedy"] and profiles.as_dict(profiles.resolve_profile("cpu"))["c3_side_selectors"] is None
    assert profiles.resolve_profile("airbench", **{k: v for k, v in d.items() if k != "name"}) == a


def test_profile_values_are_shown_as_a_reader_writes_them():
    assert report.value_text(("random", "input_norm")) == "`random`, `input_norm`"  # names in a list: all code
    assert report.value_text((0.3, 0.5)) == "0.3, 0.5" and report.value_text(()) == "(none)"
    assert report.value_text(None, "train_size") == "all" and report.value_text(None, "predrop") == "none"
    assert report.value_text(None) == "—" and report.value_text(True) == "yes" and report.value_text(1 / 7) == "0.142857"
    assert report.value_text("cifar10") == "cifar10" and report.value_text("crop_flip") == "`crop_flip`"
    table = report.profile_table(profiles.resolve_profile("cpu"))
    assert "None" not in table and "(" not in table.replace("(none)", "")  # no Python values


def test_the_profiles_page_splits_cpu_and_gpu_profiles_into_tables_that_fit_a_page():
    from datadiet_core import book
    page = book.profiles_page()
    headers = [ln for ln in page.splitlines() if ln.startswith("| field |")]
    assert len(headers) == 2 and all(h.count("`") // 2 <= 3 for h in headers)  # 3 profiles a table at most
    shown = re.findall(r"`(\w+)`", " ".join(headers))
    assert sorted(shown) == sorted(profiles.PROFILES) and headers[0] == "| field | `smoke` | `cpu` | `airbench` |"
