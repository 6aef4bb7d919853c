"""factory_boy factories: small, valid objects for tests."""

import datetime as dt

import factory
from django.utils import timezone

from feedback.models import Channel, Suggestion
from org.models import Department, Township, User, Village
from tasks.models import State, Task

PASSWORD = "test-pass-123"


class TownshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Township
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"测试{n}镇")
    short_name = factory.LazyAttribute(lambda o: o.name[:-1])
    kind = Township.Kind.TOWN


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village

    township = factory.SubFactory(TownshipFactory)
    name = factory.Sequence(lambda n: f"测试{n}村")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"测试局{n}")
    code = factory.Sequence(lambda n: f"dept{n}")
    kind = Department.Kind.FUNCTIONAL


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    role = User.Role.REGISTRAR
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.gov.cn")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TaskFactory(factory.django.DjangoModelFactory):
    """A task with one suggestion; pass state/lead_department etc. to place it in the lifecycle."""

    class Meta:
        model = Task
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"路灯不亮 {n}")
    state = State.REGISTERED
    channel = Channel.HOTLINE
    township = factory.SubFactory(TownshipFactory)

    @factory.post_generation
    def suggestion(obj, create, extracted, **kwargs):
        if create and extracted is not False and not obj.suggestions.exists():
            SuggestionFactory(task=obj, township=obj.township, channel=obj.channel, **kwargs)


class SuggestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suggestion

    channel = Channel.HOTLINE
    received_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    citizen_name = "张三"
    phone = "13812345678"
    township = factory.SubFactory(TownshipFactory)
    content = factory.Sequence(lambda n: f"小区路灯坏了很久，晚上出行不便，请尽快修复。编号{n}")
    task = factory.SubFactory(
        TaskFactory, township=factory.SelfAttribute("..township"), channel=factory.SelfAttribute("..channel"),
        suggestion=False,
    )
