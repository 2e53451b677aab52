import torch

from simmim_mm.models import SimMIMDecoder


def test_one_conv_then_pixel_shuffle():
    decoder = SimMIMDecoder(in_channels=64, encoder_stride=32, out_channels=3)
    assert [k for k, _ in decoder.state_dict().items()] == ['decoder.0.weight', 'decoder.0.bias']
    assert decoder.decoder[0].weight.shape == (32 * 32 * 3, 64, 1, 1)
    out = decoder(torch.randn(2, 64, 6, 6))
    assert out.shape == (2, 3, 192, 192)
    # PixelShuffle: output pixel (y, x) of channel c at feature cell (i, j) comes from conv
    # channel c * 32^2 + (y % 32) * 32 + (x % 32)
    feats = torch.randn(1, 64, 2, 2)
    conv = decoder.decoder[0](feats)
    out = decoder(feats)
    assert torch.equal(out[0, 1, 32 + 5, 7], conv[0, 1 * 1024 + 5 * 32 + 7, 1, 0])
