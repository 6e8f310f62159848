"""Sample ERP and identity sources: schemas, fake customers, live changes.

Everything here is synthetic: names are drawn from word lists, e-mail
addresses use reserved domains (``example.com``, ``*.example``) and phone
numbers use ranges set aside for fiction.
"""
