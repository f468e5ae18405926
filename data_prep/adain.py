"""AdaIN style transfer (Huang & Belongie 2017), the tool Geirhos et al. used for Stylized-ImageNet.

encoder: VGG-19 (keras.applications layers) up to relu4_1, weights from the user's file
         (Keras' vgg19 *notop* .h5) or random; `depth` < 4 stops earlier (tiny tests).
adain:   content features re-normalized to the style's per-channel mean and std.
decoder: the encoder mirrored (nearest upsampling), trained with `train_decoder`.
Images are float32 [0, 1] RGB, NHWC, everywhere in this module.
"""

import keras
from keras import ops

STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")  # relu1_1 ... relu4_1
_CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512}
_CONVS = {1: 2, 2: 2, 3: 4, 4: 4}
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def build_encoder(weights=None, depth=4):
    """A frozen multi-output VGG-19 trunk: features at relu1_1 .. relu{depth}_1."""
    if not 1 <= depth <= 4:
        raise ValueError(f"encoder depth must be 1..4, got {depth}")
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    if weights:
        vgg.load_weights(weights)
    outputs = [vgg.get_layer(name).output for name in STYLE_LAYERS[:depth]]
    encoder = keras.Model(vgg.input, outputs, name=f"vgg19_relu{depth}_1")
    encoder.trainable = False
    return encoder


def build_decoder(depth=4, seed=0):
    """The mirror of the encoder: relu{depth}_1 features -> image in [0, 1] space."""
    initializer = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input((None, None, _CHANNELS[depth]))
    x = inputs
    for block in range(depth, 1, -1):
        width = _CHANNELS[block - 1]
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", kernel_initializer=initializer)(x)
        x = keras.layers.UpSampling2D(2, interpolation="nearest")(x)
        for _ in range(_CONVS[block - 1] - 1):
            x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", kernel_initializer=initializer)(x)
    outputs = keras.layers.Conv2D(3, 3, padding="same", kernel_initializer=initializer)(x)
    return keras.Model(inputs, outputs, name=f"adain_decoder_relu{depth}_1")


def encode(encoder, images):
    """VGG (caffe) preprocessing, then the encoder: a list of feature maps, shallow to deep."""
    bgr = ops.flip(ops.convert_to_tensor(images, "float32") * 255.0, axis=-1)
    features = encoder(bgr - ops.convert_to_tensor(_CAFFE_MEAN_BGR, "float32"))
    return list(features) if isinstance(features, (list, tuple)) else [features]


def channel_stats(features, eps=1e-5):
    """Per-image, per-channel mean and std over the spatial axes."""
    mean = ops.mean(features, axis=(1, 2), keepdims=True)
    std = ops.sqrt(ops.var(features, axis=(1, 2), keepdims=True) + eps)
    return mean, std


def adaptive_instance_norm(content, style, eps=1e-5):
    """Content features with each channel's mean/std replaced by the style's."""
    content_mean, content_std = channel_stats(content, eps)
    style_mean, style_std = channel_stats(style, eps)
    return (content - content_mean) / content_std * style_std + style_mean


def stylize(encoder, decoder, content, style, alpha=1.0):
    """Content images rendered in the style images' style; alpha in [0, 1] blends features."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    content_features = encode(encoder, content)[-1]
    target = adaptive_instance_norm(content_features, encode(encoder, style)[-1])
    target = alpha * target + (1.0 - alpha) * content_features
    return ops.clip(decoder(target), 0.0, 1.0)


def decoder_losses(encoder, decoder, content, style, style_weight=10.0):
    """(total, content, style) losses of the AdaIN paper for one batch."""
    style_features = encode(encoder, style)
    target = adaptive_instance_norm(encode(encoder, content)[-1], style_features[-1])
    output_features = encode(encoder, decoder(target))
    content_loss = ops.mean(ops.square(output_features[-1] - target))
    style_loss = 0.0
    for produced, wanted in zip(output_features, style_features):
        produced_mean, produced_std = channel_stats(produced)
        wanted_mean, wanted_std = channel_stats(wanted)
        style_loss = style_loss + ops.mean(ops.square(produced_mean - wanted_mean))
        style_loss = style_loss + ops.mean(ops.square(produced_std - wanted_std))
    return content_loss + style_weight * style_loss, content_loss, style_loss


def train_decoder(
    encoder, decoder, content_batches, style_batches, steps, learning_rate=1e-4, style_weight=10.0, on_step=None
):
    """Train the decoder (encoder frozen) on paired batches of content and style images.

    content_batches / style_batches: iterables of float [0, 1] image batches (cycled if short).
    on_step(step, losses_dict) is called after every step (progress, logging, checkpoints).
    Returns the list of per-step loss dicts. Needs the TensorFlow backend.
    """
    import itertools

    import tensorflow as tf

    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function
    def step_fn(content, style):
        with tf.GradientTape() as tape:
            total, content_loss, style_loss = decoder_losses(encoder, decoder, content, style, style_weight)
        gradients = tape.gradient(total, decoder.trainable_variables)
        optimizer.apply_gradients(zip(gradients, decoder.trainable_variables))
        return total, content_loss, style_loss

    history = []
    pairs = zip(itertools.cycle(content_batches), itertools.cycle(style_batches))
    for step, (content, style) in zip(range(steps), pairs):
        total, content_loss, style_loss = step_fn(
            tf.convert_to_tensor(content, tf.float32), tf.convert_to_tensor(style, tf.float32)
        )
        losses = {"loss": float(total), "content": float(content_loss), "style": float(style_loss)}
        history.append(losses)
        if on_step:
            on_step(step + 1, losses)
    return history
