"""The built-in web tasks, one module each with its site, spec and scripted expert (loaded on first use):
`webshop_site` (WebShop in the browser), `account` (log in, change a setting), `store` (search, filter, two items
to the cart, check out), `signup` (a three-page form with validation errors to fix), `booking` (book a calendar
slot) and `wiki` (find a fact across linked pages and submit it)."""
