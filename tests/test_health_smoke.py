async def test_database_is_migrated(session):
    from sqlalchemy import text

    tables = (
        await session.execute(
            text("select count(*) from information_schema.tables where table_name='orders'")
        )
    ).scalar()
    assert tables == 1
