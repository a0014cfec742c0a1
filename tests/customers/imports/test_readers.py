import gzip

import pandas as pd
import pytest

from customers.imports.readers import ImportFileError, layout_for, mapping_load, read_table
from tests.customers.imports.samples import retail_text

RETAIL = layout_for(kind="orders", preset="online_retail")


def test_gzip_and_plain_read_the_same():
    # given the same file gzipped and plain when read then the frames are equal and lines numbered from 2
    plain = read_table(retail_text().encode(), source="a.csv", layout=RETAIL)
    zipped = read_table(gzip.compress(retail_text().encode()), source="a.csv.gz", layout=RETAIL)
    assert plain.frame.equals(zipped.frame)
    assert list(plain.frame["_line"][:2]) == [2, 3]
    assert plain.frame.loc[0, "order_id"] == "536365"


def test_excel_workbook_is_read(tmp_path):
    # given the file saved as xlsx when read then the canonical columns come out as strings
    frame = pd.read_csv(pd.io.common.StringIO(retail_text()), dtype=str, keep_default_na=False)
    frame.to_excel(tmp_path / "a.xlsx", index=False)
    table = read_table((tmp_path / "a.xlsx").read_bytes(), source="a.xlsx", layout=RETAIL)
    assert table.frame.loc[1, "sku"] == "71053"
    assert len(table.frame) == len(frame)


def test_missing_required_column_names_file_and_column():
    # given a file without UnitPrice when read then the error names the file, line 1 and the column
    text = retail_text().replace(",UnitPrice", ",Price")
    with pytest.raises(ImportFileError, match=r"shop\.csv, line 1: missing required columns: unit_price \(column 'UnitPrice'\)"):
        read_table(text.encode(), source="shop.csv", layout=RETAIL)


def test_wrong_delimiter_is_named():
    # given a semicolon-separated file read as comma-separated when read then the error says so
    text = retail_text().replace(",", ";")
    with pytest.raises(ImportFileError, match="wrong delimiter.*';'"):
        read_table(text.encode(), source="shop.csv", layout=RETAIL)


def test_bad_encoding_names_first_bad_line():
    # given latin-1 bytes on the third line when read as utf-8 then the error names line 3
    data = retail_text().encode().replace(b"WHITE METAL", b"WHIT\xc9 METAL", 1)
    with pytest.raises(ImportFileError, match=r"shop\.csv, line 3: not valid utf-8"):
        read_table(data, source="shop.csv", layout=RETAIL)


def test_truncated_gzip_is_refused():
    # given a gzip file cut in half when read then a clear truncated-gzip error names the file
    data = gzip.compress(retail_text().encode() * 50)
    with pytest.raises(ImportFileError, match=r"shop\.csv\.gz: truncated or corrupt gzip"):
        read_table(data[: len(data) // 2], source="shop.csv.gz", layout=RETAIL)


def test_mapping_file_builds_a_layout(tmp_path):
    # given a YAML mapping with columns and a delimiter when loaded then the layout uses them
    (tmp_path / "m.yaml").write_text("columns:\n  order_id: Order\n  sku: Item\ndelimiter: ';'\n")
    layout = layout_for(kind="orders", mapping=mapping_load(tmp_path / "m.yaml"))
    assert layout.columns == {"order_id": "Order", "sku": "Item"}
    assert layout.delimiter == ";"


def test_mapping_with_unknown_field_is_refused():
    # given a mapping naming a field orders do not have when built then a ValueError lists the known ones
    with pytest.raises(ValueError, match="unknown orders fields"):
        layout_for(kind="orders", mapping={"columns": {"colour": "Colour"}})


def test_excel_with_a_repeated_header_is_refused(tmp_path):
    # given an xlsx whose header names Country twice when read then line 1 names the column
    frame = pd.DataFrame([["536365", "85123A", "MUG", "6", "2010-12-01 08:26:00", "2.55", "17850", "UK", "France"]],
                         columns=[*retail_text().splitlines()[0].split(","), "Country "])
    frame.to_excel(tmp_path / "a.xlsx", index=False)
    with pytest.raises(ImportFileError, match=r"a\.xlsx, line 1: the header names column 'Country' twice"):
        read_table((tmp_path / "a.xlsx").read_bytes(), source="a.xlsx", layout=RETAIL)


def test_mapping_with_a_misspelt_option_is_refused():
    # given a mapping with columns and "dayfrist" when built then a ValueError names the unknown key
    with pytest.raises(ValueError, match=r"unknown keys \['dayfrist'\]"):
        layout_for(kind="orders", mapping={"columns": {"order_id": "o"}, "dayfrist": True})


@pytest.mark.parametrize("mapping", [[1, 2], {"columns": [1, 2]}, {"columns": {"sku": 3}}, {"dayfirst": "yes"},
                                     {"product_kinds": {"fee": {"skus": "POST"}}}, {"attributes": "brand"}])
def test_malformed_mappings_are_value_errors(mapping):
    # given a mapping of the wrong shape when built then a ValueError (a 400, never a 500) says what is wrong
    with pytest.raises(ValueError, match="mapping"):
        layout_for(kind="orders", mapping=mapping)
