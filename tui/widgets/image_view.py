"""Images a run holds (report plots, attention maps, samples): a list by name and a viewer.

textual-image draws with the terminal's graphics protocol (Sixel, Kitty) when `vitlab tui`
detected one before start-up, and with coloured half cells otherwise.
"""

import sys
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


def image_widget_class():
    """The best image widget this terminal supports (detected before the app started)."""
    module = sys.modules.get("textual_image.widget")
    if module is not None and getattr(module, "Image", None) is not None:
        return module.Image
    from textual_image.widget import HalfcellImage

    return HalfcellImage


class ImagePanel(Horizontal):
    DEFAULT_CSS = """
    ImagePanel { height: 1fr; }
    ImagePanel OptionList { width: 40; height: 1fr; }
    ImagePanel #image-area { width: 1fr; height: 1fr; }
    ImagePanel #image-area > * { width: auto; height: 1fr; }
    """

    def __init__(self, run_dir, groups, **kwargs):
        """`groups`: [(folder, [path relative to run_dir, ...])], as tui.run_images lists them."""
        super().__init__(**kwargs)
        self.run_dir = Path(run_dir)
        self.groups = [(folder, list(paths)) for folder, paths in groups if paths]
        self.images = [path for _, paths in self.groups for path in paths]

    def compose(self) -> ComposeResult:
        options = []
        for folder, paths in self.groups:
            title = "report plots" if folder == "report" else f"{folder}/"
            options.append(Option(Text(f"{title} ({len(paths)})", style="bold"), disabled=True))
            options += [Option(Text(Path(path).name), id=path) for path in paths]
        yield OptionList(*options, id="image-list", markup=False)
        hint = "Pick an image on the left." if self.images else "This run has no images."
        yield Horizontal(Static(hint, id="image-hint"), id="image-area")

    def on_option_list_option_highlighted(self, event):
        if event.option.id is not None:
            self.show(event.option.id)

    def show(self, relative):
        area = self.query_one("#image-area")
        area.remove_children()
        path = self.run_dir / relative
        if not path.exists():
            area.mount(Static(f"missing: {path}", markup=False))
            return
        try:
            area.mount(image_widget_class()(str(path)))
        except Exception as error:  # an unreadable image file must not take the app down
            area.mount(Static(f"cannot show {path}: {error}", markup=False))
