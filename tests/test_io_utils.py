import numpy as np
import pytest
import torch

from faig_helpers.io_utils import atomic_path, atomic_save_npy, atomic_write_text, tensor_digest


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = atomic_write_text(tmp_path / "sub" / "ranking.txt", "old\n")  # the folder is created
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half a ran")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old\n" and sorted(p.name for p in target.parent.iterdir()) == ["ranking.txt"]


def test_a_finished_write_replaces_the_file_whole(tmp_path):
    target = atomic_save_npy(tmp_path / "g.npy", np.arange(5.0))
    atomic_save_npy(target, np.ones(3))
    assert np.array_equal(np.load(target), np.ones(3)) and len(list(tmp_path.iterdir())) == 1


def test_tensor_digest_keys_on_content_not_identity():
    a = torch.arange(6.0).reshape(2, 3)
    assert tensor_digest(a) == tensor_digest(a.clone()) == tensor_digest(a.t().t())
    assert tensor_digest(a) != tensor_digest(a + 1e-6) and tensor_digest(a, a) != tensor_digest(a)
    assert len(tensor_digest(a)) == 10
