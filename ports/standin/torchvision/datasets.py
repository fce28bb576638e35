"""MNIST and FashionMNIST from chainrule's offline copies. PORTS_SUBSET=N keeps the
first N training images (and N // 6 test images) so that a port runs in seconds."""
from __future__ import annotations

import os

import torch

from chainrule.data.datasets import load_source


class _Offline:
    """torchvision's (image, label) dataset: `transform` gets an (H, W) uint8 array;
    `.data` (uint8 images) and `.targets` are tensors, also under their old names."""

    source = ""

    def __init__(self, root=None, train=True, download=False, transform=None,
                 target_transform=None):
        images, labels = getattr(load_source(self.source), "train" if train else "test")
        keep = int(os.environ.get("PORTS_SUBSET", "0")) or len(labels)
        keep = keep if train else max(1, keep // 6)
        self._images, self._labels = images[:keep, 0], labels[:keep]
        self.data = torch.tensor(self._images)
        self.targets = torch.tensor(self._labels)
        self.train_data = self.test_data = self.data
        self.train_labels = self.test_labels = self.targets
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, index):
        image, label = self._images[index], int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label


class MNIST(_Offline):
    source = "mnist"


class FashionMNIST(_Offline):
    source = "fashion-mnist"


class FakeData:
    """torchvision's FakeData: `size` noise images of `image_size` (C, H, W) with random
    classes. Image `index` is drawn from the seed `index + random_offset` (the global
    generator's state is saved and put back), so an index always gives the same image; it
    reaches `transform` as ToPILImage would make it of the noise: `x * 255` as bytes
    (wrapping, as a float-to-uint8 cast does), here an (H, W, C) or (H, W) uint8 array."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        self.size, self.image_size, self.num_classes = size, tuple(image_size), num_classes
        self.transform, self.target_transform = transform, target_transform
        self.random_offset = random_offset

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(f"FakeData index out of range: {index} of {len(self)}")
        state = torch.get_rng_state()
        torch.manual_seed(index + self.random_offset)
        noise = torch.randn(*self.image_size)
        target = torch.randint(0, self.num_classes, size=(1,), dtype=torch.long)[0]
        torch.set_rng_state(state)
        image = noise.mul(255).byte().numpy().transpose(1, 2, 0)
        image = image[:, :, 0] if image.shape[2] == 1 else image
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, int(target)
