"""ConvNeXt V1/V2 written from the official definitions (facebookresearch/ConvNeXt and ConvNeXt-V2),
with the dense-prediction outputs of the official detection/segmentation backbone (`norm{i}`,
channels-first LayerNorm per output). Used only to generate golden fixtures."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    def __init__(self, c, eps=1e-6, channels_first=False):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps = eps
        self.channels_first = channels_first

    def forward(self, x):
        if not self.channels_first:
            return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class GRN(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, 1, dim))

    def forward(self, x):
        gx = torch.norm(x, p=2, dim=(1, 2), keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        return self.gamma * (x * nx) + self.beta + x


class Block(nn.Module):
    def __init__(self, dim, version, ls_init):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = LayerNorm(dim)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.version = version
        if version == 2:
            self.grn = GRN(4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(ls_init * torch.ones(dim)) if version == 1 and ls_init > 0 else None

    def forward(self, x):
        inp = x
        x = self.dwconv(x).permute(0, 2, 3, 1)
        x = self.act(self.pwconv1(self.norm(x)))
        if self.version == 2:
            x = self.grn(x)
        x = self.pwconv2(x)
        if self.gamma is not None:
            x = self.gamma * x
        return inp + x.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    def __init__(self, depths, dims, version=1, ls_init=1e-6, num_classes=None, out_indices=()):
        super().__init__()
        self.downsample_layers = nn.ModuleList()
        self.downsample_layers.append(nn.Sequential(nn.Conv2d(3, dims[0], 4, stride=4), LayerNorm(dims[0], channels_first=True)))
        for i in range(3):
            self.downsample_layers.append(nn.Sequential(LayerNorm(dims[i], channels_first=True), nn.Conv2d(dims[i], dims[i + 1], 2, stride=2)))
        self.stages = nn.ModuleList(nn.Sequential(*[Block(dims[i], version, ls_init) for _ in range(depths[i])]) for i in range(4))
        self.out_indices = list(out_indices)
        for i in self.out_indices:
            self.add_module(f"norm{i}", LayerNorm(dims[i], channels_first=True))
        if num_classes:
            self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
            self.head = nn.Linear(dims[-1], num_classes)
        self.num_classes = num_classes

    def forward(self, x):
        outs = {}
        for i in range(4):
            x = self.stages[i](self.downsample_layers[i](x))
            outs[f"stage{i}"] = x
            if i in self.out_indices:
                outs[f"p{i + 2}"] = getattr(self, f"norm{i}")(x)
        if self.num_classes:
            outs["logits"] = self.head(self.norm(x.mean([-2, -1])))
        return outs
