"""Forms of the offline-visit pages: one visit typed in, a spreadsheet uploaded."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from booking.rules.offline_visits import MAX_PEOPLE


class OfflineVisitForm(FlaskForm):
    venue = SelectField(_l("场馆"), coerce=int)
    day = DateField(_l("日期"), validators=[DataRequired(_l("请填写日期。"))])
    organisation_name = StringField(_l("单位名称"), validators=[
        DataRequired(_l("请填写单位名称。")), Length(max=120)])
    organisation_kind = SelectField(_l("单位类型"), default="",
                                    validators=[DataRequired(_l("请选择单位类型。"))])
    title = StringField(_l("项目"), validators=[DataRequired(_l("请填写项目名称。")),
                                              Length(max=200)])
    kind = SelectField(_l("项目类型"), default="")
    people = IntegerField(_l("人数"), validators=[
        DataRequired(_l("请填写人数。")),
        NumberRange(min=1, max=MAX_PEOPLE, message=_l("人数必须是 1 到 %(max)s 之间的整数。",
                                                      max=MAX_PEOPLE))])
    training_hours = StringField(_l("每人学时"), validators=[Optional(), Length(max=6)])
    lecturer_name = StringField(_l("讲解员"), validators=[Optional(), Length(max=100)])
    note = StringField(_l("备注"), validators=[Optional(), Length(max=300)])


class OfflineImportForm(FlaskForm):
    file = FileField(_l("Excel 文件（.xlsx）"), validators=[FileRequired(_l("请选择文件。"))])


class OfflineDeleteForm(FlaskForm):
    """Only the CSRF token."""
