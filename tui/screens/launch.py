"""The launch form: pick an experiment or a recipe, models, data and options, then start it."""

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, SelectionList, Static

from vitlab.tui import catalog, form_rules
from vitlab.tui.launcher import LaunchRequest


class LaunchScreen(Screen):
    BINDINGS = [
        Binding("ctrl+s", "launch", "Launch", id="launch.start", priority=True),
        Binding("escape", "app.pop_screen", "Cancel", id="launch.cancel"),
    ]

    def __init__(self, kind="occlusion"):
        super().__init__()
        self.kind = kind
        self.options: list[catalog.Option] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="launch-form"):
            with Grid(id="launch-basics"):
                yield Label("kind")
                yield Select(catalog.kinds(), value=self.kind, allow_blank=False, id="kind")
                yield Label("recipe", classes="recipe-only")
                yield Select(
                    [(f"{name} — {text}" if text else name, name) for name, text in catalog.recipes()],
                    prompt="pick a recipe",
                    id="recipe",
                    classes="recipe-only",
                )
                yield Label("dataset", classes="eval-only")
                yield Input(
                    "shapes",
                    placeholder="shapes[:variant], fashion_mnist, tfds:NAME, or a folder",
                    id="dataset",
                    classes="eval-only",
                )
                yield Label("split / limit / seed", classes="eval-only")
                with Horizontal(classes="eval-only", id="split-limit-seed"):
                    yield Input("test", placeholder="split", id="split")
                    yield Input("", placeholder="limit: all images", id="limit")
                    yield Input("0", placeholder="seed", id="seed")
            with Vertical(classes="eval-only", id="model-box"):
                yield Label("models — space picks (trained first: the zoo, then earlier runs; then untrained names)")
                yield SelectionList(*catalog.model_choices(), id="models")
                yield Input(placeholder="more models: .keras files or RUN_DIR:NAME, space-separated", id="extra-models")
            yield Label("options (empty = the paper's default shown in grey)", id="options-title")
            yield Static("reading options…", id="options-note")
            yield Grid(id="options")
            yield Input(placeholder="more options: key=value key=value (as --set)", id="extra-options")
            yield Static("", id="errors")
            with Horizontal(id="launch-buttons"):
                yield Button("Launch (ctrl+s)", variant="success", id="launch")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

    def on_mount(self):
        self.title, self.sub_title = "vitlab", "launch a run"
        self.apply_kind(self.kind)
        self.add_run_models()

    # --- dynamic parts ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="run-models")
    def add_run_models(self):
        specs = catalog.run_models(self.app.runs_root)
        if specs:
            self.app.call_from_thread(self.show_models, catalog.model_choices(specs))

    def show_models(self, choices):
        """Rebuild the list in catalog order (trained before untrained), keeping what was picked."""
        models = self.query_one("#models", SelectionList)
        picked = set(models.selected)
        models.clear_options()
        models.add_options([(label, spec, spec in picked) for label, spec in choices])

    def on_select_changed(self, event: Select.Changed):
        if event.select.id == "kind" and isinstance(event.value, str) and event.value != self.kind:
            self.apply_kind(event.value)

    def apply_kind(self, kind):
        self.kind = kind
        recipe = kind == "recipe"
        for widget in self.query(".recipe-only"):
            widget.display = recipe
        for widget in self.query(".eval-only"):
            widget.display = not recipe
        self.options = []
        self.query_one("#options", Grid).remove_children()
        note = self.query_one("#options-note", Static)
        if recipe:
            note.update("A recipe carries its own settings; add key=value overrides below if it takes them.")
            return
        note.update(f"reading the options of {kind}…")
        self.load_options(kind)

    @work(thread=True, exclusive=True, group="options")
    def load_options(self, kind):
        try:
            options, problem = catalog.experiment_options(kind), None
        except Exception as error:  # the probe's last line says why
            options, problem = [], str(error)
        self.app.call_from_thread(self.show_options, kind, options, problem)

    def show_options(self, kind, options, problem):
        if kind != self.kind:
            return
        note = self.query_one("#options-note", Static)
        if problem:
            note.update(Text(f"options of {kind} unavailable ({problem}); type key=value below."))
            return
        self.options = options
        note.update(f"{len(options)} options of {kind}:")
        widgets = []
        for option in options:
            widgets.append(Label(Text.assemble(option.name, (f" ({option.type})", "dim"))))
            widgets.append(Input(placeholder=option.default_text, id=f"opt-{option.name}", classes="option"))
        self.query_one("#options", Grid).mount_all(widgets)

    # --- launch -------------------------------------------------------------------------------
    def build_request(self):
        """(LaunchRequest, []) when the form is valid, else (None, [errors])."""
        errors = []
        value = lambda widget_id: self.query_one(f"#{widget_id}", Input).value.strip()  # noqa: E731
        assignments = [f"{o.name}={value('opt-' + o.name)}" for o in self.options if value("opt-" + o.name)]
        assignments += value("extra-options").split()
        errors += form_rules.check_options(self.options, assignments)
        if self.kind == "recipe":
            recipe = self.query_one("#recipe", Select).value
            if not isinstance(recipe, str):
                errors.append("pick a recipe")
            request = LaunchRequest(
                kind="recipe", recipe=recipe if isinstance(recipe, str) else "", options=assignments
            )
            return (None, errors) if errors else (request, [])
        models = list(self.query_one("#models", SelectionList).selected) + value("extra-models").split()
        if not models:
            errors.append("pick at least one model (space in the list) or type one")
        registry = catalog.registry_models()
        errors += [problem for spec in models if (problem := form_rules.check_model(spec, registry))]
        if not value("dataset"):
            errors.append("dataset: give a name (shapes, fashion_mnist, tfds:NAME) or a folder")
        limit, problem = form_rules.parse_int(value("limit"), "limit", minimum=1)
        errors += [problem] if problem else []
        seed, problem = form_rules.parse_int(value("seed") or "0", "seed")
        errors += [problem] if problem else []
        if errors:
            return None, errors
        request = LaunchRequest(
            kind=self.kind,
            models=models,
            dataset=value("dataset"),
            split=value("split") or "test",
            limit=limit,
            seed=seed or 0,
            options=assignments,
        )
        return request, []

    def action_launch(self):
        request, errors = self.build_request()
        box = self.query_one("#errors", Static)
        if errors:
            box.update(Text("\n").join(Text.assemble(("✗ ", "bold red"), error) for error in errors))
            return
        box.update("")
        self.app.start_run(request)
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed):
        if event.button.id == "launch":
            self.action_launch()
        else:
            self.app.pop_screen()
